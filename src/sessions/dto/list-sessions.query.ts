import { SESSION_STATUSES } from '../../domain/vocabulary';
import { QueryEnum, QueryInt } from '../../common/validation/field.decorators';

export const STATUS_FILTERS = [...SESSION_STATUSES, 'all'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

/** GET /sessions (§4.4): every value at most once, empty values absent, integers as digits only. */
export class ListSessionsQuery {
  @QueryEnum(STATUS_FILTERS, 'all')
  status: StatusFilter = 'all';

  @QueryInt(1, 100, 50)
  limit = 50;

  @QueryInt(0, 1_000_000, 0)
  offset = 0;
}
