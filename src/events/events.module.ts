import { Module } from '@nestjs/common';
import { CoreModule } from '../core/core.module';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/** The event stream (contract §10.3): reads the core's bus and watcher, imports no feature. */
@Module({
  imports: [CoreModule],
  controllers: [EventsController],
  providers: [EventsService],
})
export class EventsModule {}
