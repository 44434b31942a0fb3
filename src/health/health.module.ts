import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TmuxModule } from '../tmux/tmux.module';
import { HealthController } from './health.controller';
import { ReadinessIndicators } from './health.indicators';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), TmuxModule],
  controllers: [HealthController],
  providers: [ReadinessIndicators],
})
export class HealthModule {}
