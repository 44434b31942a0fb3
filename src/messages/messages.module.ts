import { Module } from '@nestjs/common';
import { CoreModule } from '../core/core.module';
import { MessageService } from './message.service';
import { MessagesController } from './messages.controller';

/** POST /message (§4.10); delivery itself is the core's, shared with the startup prompts. */
@Module({
  imports: [CoreModule],
  controllers: [MessagesController],
  providers: [MessageService],
})
export class MessagesModule {}
