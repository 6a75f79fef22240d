import 'reflect-metadata';
import { RpcException } from '@nestjs/microservices';
import { Type } from 'class-transformer';
import { IsInt, IsString, Min, ValidateNested } from 'class-validator';
import { rpcValidationPipe } from './rpc-validation.pipe';

class LineDto {
  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  qty!: number;
}

class OrderDto {
  @IsString()
  id!: string;

  @ValidateNested({ each: true })
  @Type(() => LineDto)
  items!: LineDto[];
}

const meta = { type: 'body' as const, metatype: OrderDto };

describe('rpcValidationPipe', () => {
  it('transforms a valid payload into the DTO', async () => {
    const out: unknown = await rpcValidationPipe().transform({ id: 'o1', items: [{ sku: 'A', qty: 2 }] }, meta);
    expect(out).toBeInstanceOf(OrderDto);
    expect((out as OrderDto).items[0]).toBeInstanceOf(LineDto);
  });

  it('refuses with an RpcException carrying every message, nested ones by their dotted path', async () => {
    const err: unknown = await rpcValidationPipe()
      .transform(
        {
          id: 7,
          items: [
            { sku: 'A', qty: 1 },
            { sku: 'B', qty: 0 },
          ],
        },
        meta,
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcException);
    expect((err as RpcException).getError()).toEqual({
      status: 'error',
      code: 'INVALID',
      message: 'id must be a string; items.1.qty must not be less than 1',
      errors: ['id must be a string', 'items.1.qty must not be less than 1'],
    });
  });

  it("takes ValidationPipe's options", async () => {
    const err: unknown = await rpcValidationPipe({ whitelist: true, forbidNonWhitelisted: true })
      .transform({ id: 'o1', items: [], extra: 1 }, meta)
      .catch((e: unknown) => e);
    expect((err as RpcException).getError()).toMatchObject({
      code: 'INVALID',
      errors: ['property extra should not exist'],
    });
  });
});
