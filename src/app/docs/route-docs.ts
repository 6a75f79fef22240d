import { LoginDto, OrderDto, ProductDto, ProductSearchResultDto, UserDto } from './api-models';

/** What the OpenAPI document says about one operation beyond what its decorators give. */
export interface RouteDoc {
  /** One-line summary. */
  summary?: string;
  /** Schema (class registered as an extra model) of the success answer. */
  response?: { status: string; model: { name: string } };
  /** Schema of a request body the route reads without `@Body()` (e.g. a guard reads it). */
  body?: { name: string };
  /** Needs the session cookie. */
  session?: boolean;
  /** Operation-specific error answers: status → when. */
  errors?: Record<string, string>;
}

/** Models used by {@link ROUTE_DOCS}, registered in the document. */
export const DOC_MODELS = [UserDto, LoginDto, ProductDto, ProductSearchResultDto, OrderDto];

/**
 * Operation-specific documentation of the reference service, keyed `METHOD /path` (OpenAPI path syntax).
 * Errors every operation can give (400 on bad input, 429, 500, 503) are added to all of them by docs.setup.ts.
 */
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'POST /users': {
    summary: 'Register a user',
    response: { status: '201', model: UserDto },
    errors: { '409': 'The username is taken' },
  },
  'GET /users/{id}': {
    summary: 'One user, through the cache (`X-Cache: HIT|MISS`)',
    response: { status: '200', model: UserDto },
    errors: { '404': 'No such user (cached as "not found" too)' },
  },
  'PATCH /users/{id}': {
    summary: 'Change displayName and/or email (evicts the cached user)',
    response: { status: '200', model: UserDto },
    errors: { '404': 'No such user' },
  },
  'DELETE /users/{id}': { summary: 'Delete a user (evicts the cached user)', errors: { '404': 'No such user' } },
  'GET /catalog/search': {
    summary:
      'Faceted product search (count, price range, stock, top brands, first items) through the cache ' +
      '(`X-Cache: HIT|MISS`); answered from the database when Redis is unavailable. Rate-limited per client IP ' +
      '(`RateLimit-Policy` / `RateLimit` headers)',
    response: { status: '200', model: ProductSearchResultDto },
    errors: { '429': 'Over the search rate limit (`Retry-After` in seconds)' },
  },
  'PATCH /catalog/products/{id}': {
    summary: 'Change price and/or stock (invalidates the cached searches of its category)',
    response: { status: '200', model: ProductDto },
    errors: { '404': 'No such product' },
  },
  'POST /auth/login': {
    summary: 'Log in: sets the session cookie',
    body: LoginDto,
    response: { status: '200', model: UserDto },
    errors: {
      '401': 'Wrong username or password (one message for both)',
      '409': 'The user already holds SESSION_MAX_PER_USER sessions (policy `refuse-new`): log out of one first',
      '429': 'Too many failed logins for this username and address (`Retry-After` in seconds)',
    },
  },
  'GET /auth/me': {
    summary: 'The logged-in user',
    session: true,
    response: { status: '200', model: UserDto },
    errors: { '401': 'Not logged in' },
  },
  'POST /auth/logout': { summary: 'Log out: destroys the session, clears the cookie' },
  'GET /auth/sessions': {
    summary: 'My sessions, newest first, the current one marked',
    session: true,
    errors: { '401': 'Not logged in' },
  },
  'DELETE /auth/sessions': {
    summary: 'Log out everywhere else',
    session: true,
    errors: { '401': 'Not logged in' },
  },
  'DELETE /auth/sessions/{id}': {
    summary: 'Revoke one of my sessions',
    session: true,
    errors: { '401': 'Not logged in', '404': 'Not one of my sessions' },
  },
  'POST /inventory': { summary: 'Create or set the stock of a SKU' },
  'GET /inventory/{sku}': { summary: 'Stock of a SKU', errors: { '404': 'Unknown SKU' } },
  'POST /inventory/{sku}/reserve': {
    summary: 'Reserve stock under a distributed lock (fencing token checked by the database)',
    errors: {
      '404': 'Unknown SKU',
      '409': 'Not enough stock, or a stale fencing token',
      '423': 'Another reservation of this SKU holds the lock (`Retry-After`)',
    },
  },
  'POST /orders': {
    summary: 'Place an order: the inventory service reserves its stock, then `order.created` goes to its stream',
    response: { status: '201', model: OrderDto },
    session: true,
    errors: {
      '401': 'Not logged in',
      '409': 'Not enough stock',
      '423': "The SKU's lock stayed busy (`Retry-After`)",
    },
  },
  'GET /orders/{id}': {
    summary: 'One of my orders: its status (`pending`, `confirmed`, `expired`...) and `remindedAt`',
    response: { status: '200', model: OrderDto },
    session: true,
    errors: { '401': 'Not logged in', '404': 'No such order of mine' },
  },
  'GET /events': {
    summary: 'Server-sent events of my orders (order.confirmed...)',
    session: true,
    errors: { '401': 'Not logged in' },
  },
  'GET /health': { summary: 'Liveness: every Redis connection answers PING (503 otherwise)' },
  'GET /health/ready': { summary: 'Readiness: Redis connections and the database (`SELECT 1`) answer (503 otherwise)' },
  'GET /metrics': { summary: 'Prometheus metrics (text exposition format 0.0.4)' },
};
