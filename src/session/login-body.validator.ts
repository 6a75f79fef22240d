import { Inject, Injectable, type Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { IsNotEmpty, IsString, MaxLength, validate } from 'class-validator';
import { SESSION_RESOLVED_OPTIONS } from './session.constants';
import { InvalidLoginBodyError } from './session.errors';
import type { ResolvedSessionOptions } from './session.options';

/** A login body that passed {@link LoginBodyValidator}. */
export interface LoginCredentials {
  /** Non-empty, at most `maxUsernameLength` characters. */
  username: string;
  /** Non-empty, at most `maxPasswordLength` characters. */
  password: string;
}

/** Longest accepted username and password, in characters (from the module options). */
export type LoginBodyLimits = Pick<ResolvedSessionOptions, 'maxUsernameLength' | 'maxPasswordLength'>;

/**
 * The class-validator DTO of a login body for the given limits (the lengths are options, so the class is made per
 * module). class-validator runs a property's decorators from the bottom up and stops at the first failure, so each
 * field reports one problem: empty, else not a string, else too long.
 */
export function loginBodyDto(limits: LoginBodyLimits): Type<LoginCredentials> {
  class LoginBodyDto implements LoginCredentials {
    @MaxLength(limits.maxUsernameLength)
    @IsString()
    @IsNotEmpty()
    username!: string;

    @MaxLength(limits.maxPasswordLength)
    @IsString()
    @IsNotEmpty()
    password!: string;
  }
  return LoginBodyDto;
}

/** Checks the body of a login request at the HTTP edge (used by `LocalLoginGuard` before passport reads it). */
@Injectable()
export class LoginBodyValidator {
  private readonly dto: Type<LoginCredentials>;

  constructor(@Inject(SESSION_RESOLVED_OPTIONS) options: LoginBodyLimits) {
    this.dto = loginBodyDto(options);
  }

  /**
   * The body as credentials.
   * @throws InvalidLoginBodyError listing every problem (one per field, plus one per unknown property)
   */
  async validate(body: unknown): Promise<LoginCredentials> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new InvalidLoginBodyError(['body must be a JSON object with username and password']);
    }
    const credentials = plainToInstance(this.dto, body);
    const errors = await validate(credentials, { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: true });
    if (errors.length > 0) {
      // the fields' problems first, then the properties that should not be there
      const unknown = (e: (typeof errors)[number]) => (e.constraints?.whitelistValidation === undefined ? 0 : 1);
      const ordered = [...errors].sort((a, b) => unknown(a) - unknown(b));
      throw new InvalidLoginBodyError(ordered.flatMap((e) => Object.values(e.constraints ?? {})));
    }
    return credentials;
  }
}
