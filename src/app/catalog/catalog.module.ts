import { Module, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config';
import { CatalogController } from './catalog.controller';
import { CatalogService } from './catalog.service';

/** Products seeded at startup in the database, searched through the cache (`GET /catalog/search`). */
@Module({ controllers: [CatalogController], providers: [CatalogService], exports: [CatalogService] })
export class CatalogModule implements OnApplicationBootstrap {
  constructor(
    private readonly catalog: CatalogService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  /** Seeds CATALOG_SEED_ROWS products (default 100 000; 1000 when NODE_ENV=test) unless they are there. */
  async onApplicationBootstrap(): Promise<void> {
    const test = this.config.get('NODE_ENV', { infer: true }) === 'test';
    await this.catalog.seed(this.config.get('CATALOG_SEED_ROWS', { infer: true }) ?? (test ? 1_000 : 100_000));
  }
}
