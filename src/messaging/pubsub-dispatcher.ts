import type { Logger } from '@nestjs/common';
import { traceProcess } from '../core/tracing';
import { parseEnvelope, type MessageEnvelope } from './message-envelope';
import { isMessageRejection, rejectionReason } from './message-rejection';
import { MessageValidationError } from './messaging.errors';
import type { MessagingStats } from './messaging.stats';
import { validatePayload, type PayloadDto } from './payload-validation';
import type { Registration } from './subscription.registry';

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Span attributes of one handler call (tracing on). */
const pubSubAttributes = (envelope: MessageEnvelope) => ({
  'messaging.message.id': envelope.id,
  'nrk.messaging.kind': 'pubsub',
});

/**
 * Runs the handlers of one received pub/sub message: parses the envelope (an invalid one is counted and
 * logged), validates the payload per handler when it has a DTO, calls each handler and counts the outcome. A
 * throwing handler is logged and counted and never stops the others; a refused message (a guard, a pipe, a 4xx
 * `HttpException`: {@link isMessageRejection}) is dropped, logged as a warning and counted as `rejected`.
 * Handlers without a DTO are called synchronously (no promise per message unless the handler returns one).
 */
export class PubSubDispatcher {
  constructor(
    private readonly stats: MessagingStats,
    private readonly logger: Logger,
  ) {}

  /**
   * Delivers `text`, received for the subscription `id`, to `handlers`.
   * @param id the subscription (`channel:<key>` or `pattern:<key>`), for logs
   */
  dispatch(id: string, text: string, handlers: ReadonlySet<Registration>): void {
    this.stats.inc('received');
    let envelope: MessageEnvelope;
    try {
      envelope = parseEnvelope(text);
    } catch (err) {
      this.stats.inc('invalid');
      this.logger.warn(`Dropped a message on ${id}: ${errorText(err)}`);
      return;
    }
    for (const registration of handlers) {
      if (registration.dto) {
        void this.runValidated(registration, registration.dto, envelope);
        continue;
      }
      try {
        const result = traceProcess(
          envelope.type,
          envelope.headers,
          () => pubSubAttributes(envelope),
          () => registration.handler(envelope.payload, envelope),
        );
        if (result instanceof Promise) {
          result.then(
            () => this.stats.inc('handled'),
            (err: unknown) => this.failed(registration, envelope, err),
          );
        } else {
          this.stats.inc('handled');
        }
      } catch (err) {
        this.failed(registration, envelope, err);
      }
    }
  }

  private async runValidated(registration: Registration, dto: PayloadDto, envelope: MessageEnvelope): Promise<void> {
    let payload: unknown;
    try {
      payload = await validatePayload(envelope.type, dto, envelope.payload);
    } catch (err) {
      this.stats.inc('invalid');
      this.logger.warn(
        `Invalid message ${envelope.id} for ${registration.label}: ${
          err instanceof MessageValidationError ? err.message : String(err)
        }`,
      );
      return;
    }
    try {
      await traceProcess(
        envelope.type,
        envelope.headers,
        () => pubSubAttributes(envelope),
        () => registration.handler(payload, envelope),
      );
      this.stats.inc('handled');
    } catch (err) {
      this.failed(registration, envelope, err);
    }
  }

  private failed(registration: Registration, envelope: MessageEnvelope, err: unknown): void {
    if (isMessageRejection(err)) {
      this.stats.inc('rejected');
      this.logger.warn(
        `Handler ${registration.label} refused message ${envelope.id} (trace ${envelope.headers.traceId}), dropped: ${rejectionReason(err)}`,
      );
      return;
    }
    this.stats.inc('failed');
    this.logger.error(
      `Handler ${registration.label} failed on message ${envelope.id} (trace ${envelope.headers.traceId}): ${errorText(err)}`,
    );
  }
}
