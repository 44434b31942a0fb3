import { Module } from '@nestjs/common';
import { CoreModule } from '../core/core.module';
import { TmuxModule } from '../tmux/tmux.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/**
 * Prometheus metrics (contract §10.5). A feature like the others: it reads the core and the tmux
 * gateway and registers itself as their observer; nothing else imports it.
 */
@Module({
  imports: [CoreModule, TmuxModule],
  controllers: [MetricsController],
  providers: [MetricsService],
})
export class MetricsModule {}
