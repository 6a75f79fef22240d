import { BadRequestException, ParseIntPipe } from '@nestjs/common';
import { AppValidationPipe } from './app-validation.pipe';
import { ParseIdPipe } from './parse-id.pipe';

describe('AppValidationPipe', () => {
  const pipe = new AppValidationPipe();
  const param = { type: 'param' as const, metatype: Number, data: 'id' };

  it.each(['1e3', '0x10', ' 12 ', '1.0'])(
    'leaves route parameter %j as a string, so ParseIdPipe refuses it',
    async (raw) => {
      const value = (await pipe.transform(raw, param)) as string;
      expect(value).toBe(raw);
      expect(() => new ParseIdPipe().transform(value)).toThrow(BadRequestException);
      await expect(new ParseIntPipe({ errorHttpStatusCode: 400 }).transform(value, param)).rejects.toThrow(
        BadRequestException,
      );
    },
  );

  it('still passes a plain id through to ParseIdPipe', async () => {
    expect(new ParseIdPipe().transform((await pipe.transform('42', param)) as string)).toBe(42);
  });

  it('still converts query values by their declared type', async () => {
    expect(await pipe.transform('5', { type: 'query', metatype: Number, data: 'limit' })).toBe(5);
  });
});
