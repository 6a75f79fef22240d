import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  RequestTimeoutException,
} from '@nestjs/common';
import { isMessageRejection, rejectionReason } from './message-rejection';

describe('isMessageRejection / rejectionReason', () => {
  it('takes a 4xx HttpException (guard refusal, ValidationPipe) as a refusal, with its reason', () => {
    const forbidden = new ForbiddenException('Forbidden resource');
    expect(isMessageRejection(forbidden)).toBe(true);
    expect(rejectionReason(forbidden)).toBe('rejected (403): Forbidden resource');
    const invalid = new BadRequestException(['sku must be a string', 'qty must not be less than 1']);
    expect(isMessageRejection(invalid)).toBe(true);
    expect(rejectionReason(invalid)).toBe('rejected (400): sku must be a string; qty must not be less than 1');
    expect(rejectionReason(new HttpException('plain text', HttpStatus.CONFLICT))).toBe('rejected (409): plain text');
  });

  it('leaves "try later" statuses, 5xx and other errors to the failure path (retried)', () => {
    expect(isMessageRejection(new RequestTimeoutException())).toBe(false);
    expect(isMessageRejection(new HttpException('slow down', HttpStatus.TOO_MANY_REQUESTS))).toBe(false);
    expect(isMessageRejection(new HttpException('down', HttpStatus.SERVICE_UNAVAILABLE))).toBe(false);
    expect(isMessageRejection(new Error('boom'))).toBe(false);
    expect(isMessageRejection('boom')).toBe(false);
  });
});
