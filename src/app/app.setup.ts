import type { INestApplication } from '@nestjs/common';
import { AppValidationPipe } from './common/app-validation.pipe';
import { AppExceptionFilter } from './common/exception.filter';
import { setupDocs } from './docs/docs.setup';
import { useStructuredLogs } from './logging/logging.module';
import { applyHttpHardening } from './security/http-hardening';

/**
 * Everything main.ts applies to the HTTP application, shared with the e2e tests so that they test
 * the service as it runs: validation (400 with clear messages), the error filter, shutdown hooks.
 */
export function configureApp(app: INestApplication): INestApplication {
  useStructuredLogs(app); // JSON logs with a request id on every line (logging/logging.module.ts)
  applyHttpHardening(app); // helmet, body limit, CORS, trust proxy (security/http-hardening.ts)
  app.useGlobalPipes(new AppValidationPipe());
  app.useGlobalFilters(new AppExceptionFilter());
  setupDocs(app); // OpenAPI: Swagger UI at /docs, JSON at /docs-json (docs/docs.setup.ts)
  // useProcessExit: after a signal's graceful shutdown the process ends with exit(0), so 'exit' handlers run
  // (the private redis-server of `npm start` is stopped there) and async loggers flush.
  app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}
