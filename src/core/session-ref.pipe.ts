import { Injectable, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { refuseTogether } from '../common/validation/issue-bucket';
import { toIssues } from '../common/validation/to-issues';
import { ValidationError, type ValidationIssue } from '../errors/mas-error';
import { IsSessionRef, type SessionRef, toSessionRef } from './session-ref';

class SessionIdParam {
  @IsSessionRef() sessionId!: string;
}

/** `:sessionId` → a typed {@link SessionRef}, once, with the grammar the body and query use. */
@Injectable()
export class SessionRefPipe implements PipeTransform<string, Promise<SessionRef>> {
  async transform(sessionId: string): Promise<SessionRef> {
    const issues = sessionIdIssues(sessionId);
    if (issues.length) return refuseTogether(new ValidationError(issues));
    return toSessionRef(sessionId);
  }
}

/** The path's `:sessionId` checked on its own, also for the early query-key refusal (§3.3). */
export function sessionIdIssues(sessionId: unknown): ValidationIssue[] {
  return toIssues(validateSync(plainToInstance(SessionIdParam, { sessionId })), 'path');
}
