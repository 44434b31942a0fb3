import { Module } from '@nestjs/common';
import { WorkspaceReader } from './workspace.reader';
import { WorkspaceWriter } from './workspace.writer';

@Module({
  providers: [WorkspaceReader, WorkspaceWriter],
  exports: [WorkspaceReader, WorkspaceWriter],
})
export class WorkspaceModule {}
