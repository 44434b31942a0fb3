import { Module } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { SpawnTmuxRunner } from './tmux-runner';
import { TMUX_RUNNER } from './tmux.constants';
import { TmuxGateway } from './tmux.gateway';

/** One gateway instance, hence one breaker per tmux socket; feature modules import this module. */
@Module({
  providers: [
    {
      provide: TMUX_RUNNER,
      inject: [MAS_CONFIG],
      useFactory: (cfg: MasConfig) => new SpawnTmuxRunner(cfg),
    },
    TmuxGateway,
  ],
  exports: [TmuxGateway],
})
export class TmuxModule {}
