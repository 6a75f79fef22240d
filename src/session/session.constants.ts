/** Injection token of the SessionModule options as given. */
export const SESSION_MODULE_OPTIONS = 'nest-redis-kit:session:options';

/** Injection token of the resolved (validated, defaulted) options. */
export const SESSION_RESOLVED_OPTIONS = 'nest-redis-kit:session:resolved-options';

/** Injection token of the express-session store the middleware uses (our RedisSessionStore by default). */
export const SESSION_STORE = 'nest-redis-kit:session:store';

/** Name of the passport-local strategy the module registers on its own passport instance. */
export const LOCAL_STRATEGY_NAME = 'nrk-local';
