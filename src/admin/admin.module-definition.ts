import { ConfigurableModuleBuilder, Controller, UseFilters, UseGuards, type Type } from '@nestjs/common';
import { AdminAccessGuard } from './admin-access.guard';
import { AdminApiController } from './admin-api.controller';
import { AdminErrorFilter } from './admin-error.filter';
import { AdminPageController } from './admin-page.controller';
import { ADMIN_MODULE_OPTIONS, DEFAULT_ADMIN_PATH } from './admin.constants';
import type { AdminModuleOptions } from './admin.options';

/** Extra options of `AdminModule.forRoot/forRootAsync` that shape the module itself. */
export interface AdminModuleExtras {
  /** URL path of the page; its API is under `<path>/api` (default `admin`). */
  path?: string;
}

/** The page's and the API's controllers, mounted under `path`, behind the access guard. */
export function adminControllers(path: string): Type[] {
  const clean = path.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9._~\-/]+$/.test(clean)) {
    throw new Error(`AdminModule path must be a URL path of letters, digits, "-", "_", "." and "/", got "${path}"`);
  }
  @Controller(clean)
  @UseGuards(AdminAccessGuard)
  @UseFilters(AdminErrorFilter)
  class AdminApi extends AdminApiController {}
  @Controller(clean)
  @UseGuards(AdminAccessGuard)
  class AdminPage extends AdminPageController {}
  return [AdminApi, AdminPage];
}

/** Built by ConfigurableModuleBuilder: `forRoot` / `forRootAsync` with typed options, `path` as an extra. */
export const {
  ConfigurableModuleClass: AdminConfigurableModule,
  OPTIONS_TYPE: ADMIN_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ADMIN_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AdminModuleOptions>({ optionsInjectionToken: ADMIN_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<AdminModuleExtras>({ path: DEFAULT_ADMIN_PATH }, (definition, extras) => ({
    ...definition,
    controllers: [...(definition.controllers ?? []), ...adminControllers(extras.path ?? DEFAULT_ADMIN_PATH)],
  }))
  .build();
