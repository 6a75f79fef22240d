import { Controller, Get, Header, type Type } from '@nestjs/common';
import { MetricsService } from './metrics.service';

/** The scrape endpoint's controller class, made per route so that the route is an option. */
export function createMetricsController(path: string): Type<unknown> {
  /** `GET /<path>`: every metric in the Prometheus text format. */
  @Controller(path)
  class MetricsController {
    constructor(private readonly metrics: MetricsService) {}

    /** Prometheus text exposition (version 0.0.4). */
    @Get()
    @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
    @Header('Cache-Control', 'no-store')
    scrape(): Promise<string> {
      return this.metrics.scrape();
    }
  }
  return MetricsController;
}
