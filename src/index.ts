/**
 * nest-redis-kit: the library's public API. Everything another Nest project imports comes from here.
 */
export * from './redis';
