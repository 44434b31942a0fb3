import { type ClassConstructor, plainToInstance } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';
import { MessageRequest } from '../../messages/dto/message-request';
import { AgentSpec } from '../../runs/dto/agent-spec';
import { RunsRequest, TeamSpec, UnitSpec } from '../../runs/dto/runs-request';
import { ListSessionsQuery } from '../../sessions/dto/list-sessions.query';
import { ConnectRequest, RestoreRequest, StopRequest } from '../../sessions/dto/session-requests';
import { StatusQuery } from '../../sessions/dto/status.query';
import { VALIDATION_OPTIONS } from './request-validation.pipe';

const DTOS: ClassConstructor<object>[] = [
  MessageRequest,
  AgentSpec,
  RunsRequest,
  TeamSpec,
  UnitSpec,
  ListSessionsQuery,
  ConnectRequest,
  RestoreRequest,
  StopRequest,
  StatusQuery,
];

describe('request DTOs under the excludeAll strategy (attack A13-1)', () => {
  it.each(DTOS.map((c) => [c.name, c] as const))(
    '%s: every validated field is read from the request (a field without @Expose would be dropped)',
    (_name, cls) => {
      const fields = getMetadataStorage()
        .getTargetValidationMetadatas(cls, '', true, false)
        .map((m) => m.propertyName);
      expect(fields.length).toBeGreaterThan(0);
      const plain = Object.fromEntries(fields.map((f) => [f, 'sent']));
      const obj = plainToInstance(cls, plain, VALIDATION_OPTIONS.transformOptions) as Record<
        string,
        unknown
      >;
      // fields with a transform (query integers, defaults) keep what they cannot convert
      for (const f of new Set(fields)) expect({ f, value: obj[f] }).toEqual({ f, value: 'sent' });
      expect(
        'unknown' in
          (plainToInstance(cls, { unknown: 1 }, VALIDATION_OPTIONS.transformOptions) as object),
      ).toBe(false);
    },
  );
});
