import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DatabaseService } from './database.service';
import type { AppConfig } from '../config/app.config';

/** Provides the connected, migrated {@link DatabaseService} to the whole reference service. */
@Global()
@Module({
  providers: [
    {
      provide: DatabaseService,
      inject: [ConfigService],
      useFactory: async (config: ConfigService<AppConfig, true>) => {
        const db = new DatabaseService();
        await db.connect({
          url: config.get('DATABASE_URL', { infer: true }),
          dataDir: config.get('DATA_DIR', { infer: true }),
        });
        return db;
      },
    },
  ],
  exports: [DatabaseService],
})
export class DatabaseModule {}
