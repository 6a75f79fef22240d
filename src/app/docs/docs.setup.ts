import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject, ResponsesObject } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';
import { addValidationSchemas } from './validation-schema';

/** Route of the Swagger UI; the JSON document is at `/<DOCS_PATH>-json`. */
export const DOCS_PATH = 'docs';

const ERROR_REF = { $ref: `#/components/schemas/${ErrorResponseDto.name}` };
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ERROR_REF } },
});
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/** Error answers every operation can give (AppExceptionFilter), added where a controller did not describe them. */
function addCommonErrors(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method] as OperationObject | undefined;
      if (!op) continue;
      const responses: ResponsesObject = (op.responses ??= {});
      const takesInput = Boolean(op.requestBody) || (op.parameters ?? []).length > 0;
      if (takesInput && !responses['400']) responses['400'] = errorResponse('Invalid input: one message per problem');
      if (!responses['500']) responses['500'] = errorResponse('Unexpected error (details are logged, never returned)');
      if (!responses['503'] && !path.startsWith('/health')) {
        responses['503'] = errorResponse(
          'A dependency (Redis, database) is unavailable; `Retry-After` says when to retry',
        );
      }
      if (!op.tags?.length) op.tags = [path.split('/')[1] || 'service'];
    }
  }
  const metrics = document.paths['/metrics']?.get;
  if (metrics) {
    metrics.summary ??= 'Prometheus metrics (text exposition format 0.0.4)';
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
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponseDto] });
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
