import {
  ArrayMaxSize,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { schemaFromValidation } from './validation-schema';

class Sample {
  @IsString()
  @Matches(/^[a-z]+$/)
  @MaxLength(10)
  name!: string;

  @IsOptional()
  @IsEmail()
  email?: string;

  @IsInt()
  @Min(1)
  @Max(5)
  qty!: number;

  @IsIn(['a', 'b'])
  kind!: string;

  @IsString({ each: true })
  @ArrayMaxSize(3)
  tags!: string[];

  @IsOptional()
  untyped?: boolean;
}

class Plain {
  name = '';
}

describe('schemaFromValidation', () => {
  it('turns class-validator rules into a JSON schema', () => {
    const schema = schemaFromValidation(Sample)!;
    expect(schema.required).toEqual(['name', 'qty', 'kind', 'tags']);
    expect(schema.properties).toMatchObject({
      name: { type: 'string', pattern: '^[a-z]+$', maxLength: 10 },
      email: { type: 'string', format: 'email' },
      qty: { type: 'integer', minimum: 1, maximum: 5 },
      kind: { enum: ['a', 'b'] },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
      untyped: { type: 'boolean' },
    });
  });

  it('gives nothing for a class without validation rules', () => {
    expect(schemaFromValidation(Plain)).toBeUndefined();
  });
});
