import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

/** Largest id a PostgreSQL `SERIAL` (int4) column holds. */
export const MAX_SERIAL_ID = 2_147_483_647;

/**
 * Route parameter → database id: a positive integer that fits a `SERIAL` column, otherwise 400 with a clear
 * message (never a 500 from the database for `99999999999999`, `-1`, `1.5` or `abc`).
 */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    const id = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(id) || id < 1 || id > MAX_SERIAL_ID) {
      throw new BadRequestException(`id must be an integer between 1 and ${MAX_SERIAL_ID}`);
    }
    return id;
  }
}
