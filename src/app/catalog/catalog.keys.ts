import type { Category, ProductSearch } from './product.entity';

/** Tag of every cached search over one category. */
export const categoryTag = (category: Category): string => `catalog:category:${category}`;

/** Tag of every cached search over all categories. */
export const EVERY_CATEGORY_TAG = 'catalog:every-category';

/** Cache key of a normalised search: equal searches, equal keys. */
export function searchCacheKey(q: ProductSearch): string {
  return `catalog:search:${q.category ?? '*'}:${q.minPriceCents}-${q.maxPriceCents}:${q.inStock ? 1 : 0}:${q.sort}:${q.limit}`;
}

/** Tags a cached search carries: its category's, or the all-categories tag. */
export function searchTags(q: ProductSearch): string[] {
  return [q.category ? categoryTag(q.category) : EVERY_CATEGORY_TAG];
}

/** Tags a change to a product of `category` invalidates: the searches that may have listed or counted it. */
export function productTags(category: Category): string[] {
  return [categoryTag(category), EVERY_CATEGORY_TAG];
}
