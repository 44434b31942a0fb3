import { Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { SpawnTmuxRunner } from './tmux-runner';
import { TMUX_RUNNER } from './tmux.constants';
import { TmuxGateway } from './tmux.gateway';
import { TmuxHealthIndicator } from './tmux.health';

/**
 * One gateway instance, hence one breaker per tmux socket, and its readiness indicator; feature
 * modules import this module.
 */
@Module({
  providers: [
    {
      provide: TMUX_RUNNER,
      inject: [MAS_CONFIG],
      useFactory: (cfg: MasConfig) => new SpawnTmuxRunner(cfg),
    },
    TmuxGateway,
    // stateless terminus helper; provided here so the indicator needs no TerminusModule import
    HealthIndicatorService,
    TmuxHealthIndicator,
  ],
  exports: [TmuxGateway, TmuxHealthIndicator],
})
export class TmuxModule {}
