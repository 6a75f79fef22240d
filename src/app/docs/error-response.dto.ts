import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Body of every error answer of the reference service (see AppExceptionFilter). */
export class ErrorResponseDto {
  /** HTTP status code, repeated in the body. */
  @ApiProperty({ example: 400, description: 'HTTP status code, repeated in the body' })
  statusCode!: number;

  /** What went wrong: one sentence, or one per invalid field for a validation error. */
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['username must be 3-32 letters, digits, "_", "." or "-"'],
    description: 'What went wrong: one sentence, or one per invalid field for a validation error',
  })
  message!: string | string[];

  /** HTTP reason phrase, for errors raised by Nest's HttpExceptions. */
  @ApiPropertyOptional({ example: 'Bad Request', description: 'HTTP reason phrase' })
  error?: string;
}
