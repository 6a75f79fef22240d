/** The categories of the catalog: the seed spreads products over them, searches must name one of them. */
export const CATEGORIES = [
  'audio',
  'books',
  'cameras',
  'clothing',
  'computers',
  'furniture',
  'games',
  'garden',
  'groceries',
  'health',
  'jewelry',
  'kitchen',
  'lighting',
  'music',
  'office',
  'outdoor',
  'phones',
  'shoes',
  'sports',
  'toys',
] as const;

/** One of {@link CATEGORIES}. */
export type Category = (typeof CATEGORIES)[number];

/** A product as the API shows it. */
export interface Product {
  /** Product id (1..seed size). */
  id: number;
  /** Stock-keeping unit, e.g. `SKU-0000042`. */
  sku: string;
  /** Display name. */
  name: string;
  /** One of {@link CATEGORIES}. */
  category: Category;
  /** Brand name. */
  brand: string;
  /** Price in cents. */
  priceCents: number;
  /** Average customer rating, 0.0–5.0. */
  rating: number;
  /** Units in stock. */
  stock: number;
}

/** How a search orders its items. */
export type ProductSort = 'rating' | 'price' | '-price';

/** A normalised search: every field set, so that equal searches have equal cache keys. */
export interface ProductSearch {
  /** Only this category, or every category when null. */
  category: Category | null;
  /** Lowest price, cents (inclusive). */
  minPriceCents: number;
  /** Highest price, cents (inclusive). */
  maxPriceCents: number;
  /** Only products with stock > 0. */
  inStock: boolean;
  /** Order of the items. */
  sort: ProductSort;
  /** Items returned. */
  limit: number;
}

/** Brand facet: products of one brand among the matches. */
export interface BrandCount {
  /** Brand name. */
  brand: string;
  /** Matching products of that brand. */
  count: number;
}

/** Answer of a product search: aggregates over every match plus the first items. */
export interface ProductSearchResult {
  /** Matching products. */
  total: number;
  /** Lowest, average (rounded) and highest price of the matches, cents; null without matches. */
  priceCents: { min: number; avg: number; max: number } | null;
  /** Units in stock over every match. */
  unitsInStock: number;
  /** The five brands with the most matches, most first. */
  topBrands: BrandCount[];
  /** The first `limit` matches in the requested order. */
  items: Product[];
}
