import { Injectable, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { toValidationError } from '../common/validation/to-issues';
import { IsSessionRef, type SessionRef, toSessionRef } from './session-ref';

class SessionIdParam {
  @IsSessionRef() sessionId!: string;
}

/** `:sessionId` → a typed {@link SessionRef}, once, with the grammar the body and query use. */
@Injectable()
export class SessionRefPipe implements PipeTransform<string, SessionRef> {
  transform(sessionId: string): SessionRef {
    const errors = validateSync(plainToInstance(SessionIdParam, { sessionId }));
    if (errors.length) throw toValidationError(errors, 'path');
    return toSessionRef(sessionId);
  }
}
