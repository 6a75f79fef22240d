/** Injection token of the options given to `AdminModule.forRoot()` / `forRootAsync()`. */
export const ADMIN_MODULE_OPTIONS = 'nest-redis-kit:admin-module-options';

/** Injection token of the validated options (`ResolvedAdminOptions`). */
export const ADMIN_RESOLVED_OPTIONS = 'nest-redis-kit:admin-resolved-options';

/** Default path the operations page and its JSON API are mounted under. */
export const DEFAULT_ADMIN_PATH = 'admin';
