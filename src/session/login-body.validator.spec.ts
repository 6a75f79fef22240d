import { InvalidLoginBodyError } from './session.errors';
import { LoginBodyValidator } from './login-body.validator';

const validator = new LoginBodyValidator({ maxUsernameLength: 8, maxPasswordLength: 12 });

async function problems(body: unknown): Promise<string[]> {
  try {
    await validator.validate(body);
  } catch (err) {
    if (err instanceof InvalidLoginBodyError) return err.problems;
    throw err;
  }
  return [];
}

describe('LoginBodyValidator', () => {
  it('accepts username and password as non-empty strings within the limits', async () => {
    await expect(validator.validate({ username: 'demo', password: 'demo-pass' })).resolves.toMatchObject({
      username: 'demo',
      password: 'demo-pass',
    });
  });

  it('reports one problem per field (empty, else not a string, else too long), then unknown properties', async () => {
    expect(await problems({ username: 'demo' })).toEqual(['password should not be empty']);
    expect(await problems({ username: '', password: null })).toEqual([
      'username should not be empty',
      'password should not be empty',
    ]);
    expect(await problems({ username: 42, password: {} })).toEqual([
      'username must be a string',
      'password must be a string',
    ]);
    expect(await problems({ username: 'x'.repeat(9), password: 'y'.repeat(13) })).toEqual([
      'username must be shorter than or equal to 8 characters',
      'password must be shorter than or equal to 12 characters',
    ]);
    expect(await problems({ admin: true, username: 42, password: 'x' })).toEqual([
      'username must be a string',
      'property admin should not exist',
    ]);
  });

  it('refuses a body that is not a JSON object', async () => {
    for (const body of [undefined, null, 'demo', ['demo', 'pw']]) {
      expect(await problems(body)).toEqual(['body must be a JSON object with username and password']);
    }
  });
});
