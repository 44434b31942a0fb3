import { CacheModule } from '@nestjs/cache-manager';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from './config/mas-config';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { MessagesModule } from './messages/messages.module';
import { MetricsModule } from './metrics/metrics.module';
import { RootController } from './root.controller';
import { RunsModule } from './runs/runs.module';
import { SessionsModule } from './sessions/sessions.module';

@Global()
@Module({})
class ConfigHolderModule {
  static register(cfg: MasConfig): DynamicModule {
    return {
      module: ConfigHolderModule,
      providers: [{ provide: MAS_CONFIG, useValue: cfg }],
      exports: [MAS_CONFIG],
    };
  }
}

/** All wiring in one place; the configuration is parsed once, before the module is built. */
@Module({})
export class AppModule {
  static register(cfg: MasConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigHolderModule.register(cfg),
        CacheModule.register({ isGlobal: true }),
        SessionsModule,
        RunsModule,
        MessagesModule,
        HealthModule,
        MetricsModule,
        EventsModule,
      ],
      controllers: [RootController],
    };
  }
}
