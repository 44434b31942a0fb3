import type { Startup } from './dto/session.dto';

export type { PromptState } from '../domain/vocabulary';

/** Progress of a create's background phase (contract §4.9), shown as `startup` in the detail. */
export type StartupView = Startup;
