/**
 * OpenAPI of the reference service: the JSON document at /docs-json (routes, DTO schemas taken from
 * class-validator, error answers) and the Swagger UI at /docs, opened in headless Chromium (CHROMIUM_PATH, or
 * `chromium` on PATH: Debian's package, installed by .ci/run) with a screenshot saved to test/artifacts/docs.png.
 * Without a Chromium the browser test is skipped (one line says how to enable it), except under CI=true, where it
 * fails.
 */
import type { INestApplication } from '@nestjs/common';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { bootApp, type BootedApp } from './support/app-boot';
import { ARTIFACTS, browserIt, withChromium } from './support/chromium';
import { startRedis, type RedisServer } from './support/redis-harness';

const itBrowser = browserIt('docs.e2e-spec');

interface Schema {
  type?: string;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, Schema>;
  required?: string[];
}
interface Operation {
  tags?: string[];
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}
interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

describe('OpenAPI documentation', () => {
  let server: RedisServer;
  let booted: BootedApp;
  let app: INestApplication;
  let doc: OpenApi;

  beforeAll(async () => {
    server = await startRedis();
    booted = await bootApp({ REDIS_URL: server.url, REDIS_KEY_PREFIX: 'nrk-docs:' }, { listen: true });
    app = booted.app;
  });

  afterAll(async () => {
    await booted?.close();
    await server?.stop();
  });

  it('serves the OpenAPI JSON at /docs-json with every route', async () => {
    const res = await request(app.getHttpServer()).get('/docs-json').expect(200);
    doc = res.body as OpenApi;
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/users', '/users/{id}', '/health', '/health/ready', '/metrics']),
    );
    expect(doc.paths['/users'].post.tags?.length).toBeGreaterThan(0);
  });

  it('documents DTOs from their validation rules', () => {
    const dto = doc.components.schemas.CreateUserDto;
    expect(dto.required).toEqual(expect.arrayContaining(['username', 'password', 'displayName', 'email']));
    expect(dto.properties?.username).toMatchObject({ type: 'string', pattern: expect.any(String) });
    expect(dto.properties?.password).toMatchObject({ type: 'string', minLength: 8, maxLength: 128 });
    expect(dto.properties?.email).toMatchObject({ type: 'string', format: 'email' });
    const body = doc.paths['/users'].post as Operation & { requestBody?: unknown };
    expect(JSON.stringify(body.requestBody)).toContain('#/components/schemas/CreateUserDto');
  });

  it('documents error answers with the error schema', () => {
    expect(doc.components.schemas.ErrorResponseDto.properties).toHaveProperty('statusCode');
    const post = doc.paths['/users'].post.responses;
    for (const code of ['400', '500', '503']) {
      expect(post[code]?.content?.['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponseDto');
    }
    expect(doc.paths['/health'].get.responses).toHaveProperty('503');
    // Operation-specific answers: conflicts, not found, login failures and throttling.
    expect(post['409']?.content?.['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponseDto');
    expect(doc.paths['/users/{id}'].get.responses).toHaveProperty('404');
    expect(doc.paths['/users/{id}'].get.responses['200'].content?.['application/json'].schema.$ref).toBe(
      '#/components/schemas/UserDto',
    );
    const login = doc.paths['/auth/login'].post as Operation & { requestBody?: unknown };
    expect(JSON.stringify(login.requestBody)).toContain('#/components/schemas/LoginDto');
    expect(Object.keys(login.responses)).toEqual(expect.arrayContaining(['200', '401', '429']));
    expect((doc.paths['/auth/me'].get as Operation & { security?: unknown }).security).toEqual([{ session: [] }]);
    expect(doc.paths['/metrics'].get.responses['200'].content).toHaveProperty('text/plain');
  });

  itBrowser(
    'shows the operations in Swagger UI in headless Chromium (screenshot in test/artifacts)',
    async () => {
      const { port } = app.getHttpServer().address() as AddressInfo;
      await withChromium(async (context) => {
        const page = context.pages()[0] ?? (await context.newPage());
        await page.goto(`http://127.0.0.1:${port}/docs`, { waitUntil: 'load' });
        await page.waitForSelector('.opblock', { timeout: 20_000 });
        const operations = await page.$$eval('.opblock-summary-path', (els) =>
          els.map((e) => e.getAttribute('data-path') ?? e.textContent ?? ''),
        );
        expect(operations).toEqual(expect.arrayContaining(['/users', '/users/{id}', '/health', '/health/ready']));
        expect(await page.textContent('.title')).toContain('nest-redis-kit');
        // Open POST /auth/login: its body schema and error answers render.
        await page.click('.opblock-post .opblock-summary-path[data-path="/auth/login"]');
        await page.waitForSelector('.opblock.is-open .responses-table', { timeout: 10_000 });
        expect(await page.textContent('.opblock.is-open')).toContain('429');
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, 'docs.png'), fullPage: true });
        expect(existsSync(join(ARTIFACTS, 'docs.png'))).toBe(true);
      });
    },
    60_000,
  );
});
