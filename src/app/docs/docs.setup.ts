import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject, ResponsesObject } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';
import { DOC_MODELS, ROUTE_DOCS, type RouteDoc } from './route-docs';
import { addValidationSchemas } from './validation-schema';

/** Route of the Swagger UI; the JSON document is at `/<DOCS_PATH>-json`. */
export const DOCS_PATH = 'docs';

const ERROR_REF = { $ref: `#/components/schemas/${ErrorResponseDto.name}` };
/** An error answer: the shared schema, with an example of this status (the description doubles as its message). */
const errorResponse = (status: string, description: string) => ({
  description,
  content: {
    'application/json': {
      schema: ERROR_REF,
      example: { statusCode: Number(status), message: description.replace(/`/g, '') },
    },
  },
});
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

const schemaRef = (model: { name: string }) => ({ $ref: `#/components/schemas/${model.name}` });

/** Summary, body, success schema, session cookie and specific errors of one operation from {@link ROUTE_DOCS}. */
function applyRouteDoc(op: OperationObject, doc: RouteDoc): void {
  if (doc.summary) op.summary ??= doc.summary;
  if (doc.body && !op.requestBody) {
    op.requestBody = { required: true, content: { 'application/json': { schema: schemaRef(doc.body) } } };
  }
  if (doc.response) {
    const r = (op.responses[doc.response.status] ??= { description: 'OK' }) as { content?: unknown };
    r.content ??= { 'application/json': { schema: schemaRef(doc.response.model) } };
  }
  if (doc.session) op.security = [{ session: [] }];
  for (const [status, when] of Object.entries(doc.errors ?? {})) op.responses[status] ??= errorResponse(status, when);
}

/** Error answers every operation can give (AppExceptionFilter), added where a controller did not describe them. */
function addCommonErrors(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method] as OperationObject | undefined;
      if (!op) continue;
      const responses: ResponsesObject = (op.responses ??= {});
      const takesInput = Boolean(op.requestBody) || (op.parameters ?? []).length > 0;
      if (takesInput && !responses['400'])
        responses['400'] = errorResponse('400', 'Invalid input: one message per problem');
      const doc = ROUTE_DOCS[`${method.toUpperCase()} ${path}`];
      if (doc) applyRouteDoc(op, doc);
      if (!responses['429'])
        responses['429'] = errorResponse('429', 'Rate limit of this client address exceeded (`Retry-After`)');
      if (!responses['500'])
        responses['500'] = errorResponse('500', 'Unexpected error (details are logged, never returned)');
      if (!responses['503'] && !path.startsWith('/health')) {
        responses['503'] = errorResponse(
          '503',
          'A dependency (Redis, database) is unavailable; `Retry-After` says when to retry',
        );
      }
      if (!op.tags?.length) op.tags = [path.split('/')[1] || 'service'];
    }
  }
  const metrics = document.paths['/metrics']?.get;
  if (metrics) {
    metrics.responses['200'] = {
      description: 'Every metric of the service',
      content: { 'text/plain': { schema: { type: 'string' } } },
    };
  }
}

/** The OpenAPI document of the running application: routes, DTO schemas (from class-validator) and error answers. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('nest-redis-kit reference service')
    .setDescription(
      'REST API composing the nest-redis-kit modules (cache, sessions, messaging, locks) on one shared Redis. ' +
        'Errors are JSON `{ statusCode, message }`.',
    )
    .setVersion(process.env.npm_package_version ?? '0.1.0')
    .addCookieAuth('nrk.sid', { type: 'apiKey', in: 'cookie', name: 'nrk.sid' }, 'session')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponseDto, ...DOC_MODELS] });
  addValidationSchemas(app, document);
  addCommonErrors(document);
  return document;
}

/** Serves the Swagger UI at `/docs` and the OpenAPI JSON at `/docs-json` (built once, on the first request). */
export function setupDocs(app: INestApplication): void {
  let document: OpenAPIObject | undefined;
  SwaggerModule.setup(DOCS_PATH, app, () => (document ??= buildOpenApiDocument(app)), {
    jsonDocumentUrl: `${DOCS_PATH}-json`,
    yamlDocumentUrl: `${DOCS_PATH}-yaml`,
    customSiteTitle: 'nest-redis-kit API',
  });
}
