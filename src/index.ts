/**
 * nest-redis-kit: the library's public API. Everything another Nest project imports comes from here.
 */
export * from './redis';
export * from './metrics';
export * from './lock';
export * from './messaging';
export * from './cache';
export * from './session';
export * from './throttler';
