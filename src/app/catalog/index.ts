export { CatalogModule } from './catalog.module';
export { CatalogService } from './catalog.service';
export { CatalogController, normaliseSearch } from './catalog.controller';
export { categoryTag, EVERY_CATEGORY_TAG, productTags, searchCacheKey, searchTags } from './catalog.keys';
export * from './product.entity';
