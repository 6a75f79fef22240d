import { Injectable, Logger } from '@nestjs/common';
import { CacheService, type CacheResult } from '../../index';
import { DatabaseService } from '../database/database.service';
import { productTags, searchCacheKey, searchTags } from './catalog.keys';
import { SEED_PRODUCTS_SQL } from './catalog.seed';
import type { UpdateProductDto } from './dto/update-product.dto';
import type { BrandCount, Product, ProductSearch, ProductSearchResult, ProductSort } from './product.entity';

/** ORDER BY of each sort (fixed SQL, never built from input). */
const ORDER_BY: Record<ProductSort, string> = {
  rating: 'rating_tenths DESC, id',
  price: 'price_cents, id',
  '-price': 'price_cents DESC, id',
};

/** Columns of a product as the API names them. */
const PRODUCT_COLUMNS = `id, sku, name, category, brand, price_cents AS "priceCents",
  round(rating_tenths / 10.0, 1)::float8 AS rating, stock`;

interface SearchRow {
  total: number;
  min: number | null;
  avg: number | null;
  max: number | null;
  units: number;
  top_brands: BrandCount[];
  items: Product[];
}

/**
 * The product catalog in the SQL database: a faceted search (count, price range, units in stock, top brands and
 * the first items of every product matching a category, a price range and stock) that aggregates over every match,
 * cached per search with tags; and the writes that invalidate those tags.
 */
@Injectable()
export class CatalogService {
  private readonly logger = new Logger('Catalog');

  constructor(
    private readonly db: DatabaseService,
    private readonly cache: CacheService,
  ) {}

  /**
   * The search through the cache (TTL `CACHE_TTL_MS`, tags of its category): at most one database query per search
   * per TTL across instances; when Redis is unavailable it is answered from the database.
   */
  searchCached(q: ProductSearch): Promise<CacheResult<ProductSearchResult>> {
    return this.cache.getOrSetEntry(searchCacheKey(q), () => this.search(q), { tags: searchTags(q) });
  }

  /** The search straight from the database: one SQL statement. */
  async search(q: ProductSearch): Promise<ProductSearchResult> {
    const r = await this.db.query<SearchRow>(
      `WITH hits AS (
         SELECT * FROM products
         WHERE ($1::text IS NULL OR category = $1::text) AND price_cents BETWEEN $2::int AND $3::int
           AND (NOT $4::boolean OR stock > 0)
       ), agg AS (
         SELECT count(*)::int AS total, min(price_cents) AS min, round(avg(price_cents))::int AS avg,
           max(price_cents) AS max, coalesce(sum(stock), 0)::int AS units
         FROM hits
       )
       SELECT agg.*,
         (SELECT coalesce(json_agg(b), '[]'::json) FROM (
            SELECT brand, count(*)::int AS count FROM hits GROUP BY brand ORDER BY count(*) DESC, brand LIMIT 5) b
         ) AS top_brands,
         (SELECT coalesce(json_agg(i), '[]'::json) FROM (
            SELECT ${PRODUCT_COLUMNS} FROM hits ORDER BY ${ORDER_BY[q.sort]} LIMIT $5::int) i
         ) AS items
       FROM agg`,
      [q.category, q.minPriceCents, q.maxPriceCents, q.inStock, q.limit],
    );
    const row = r.rows[0];
    return {
      total: Number(row.total),
      priceCents: row.total > 0 ? { min: Number(row.min), avg: Number(row.avg), max: Number(row.max) } : null,
      unitsInStock: Number(row.units),
      topBrands: row.top_brands,
      items: row.items,
    };
  }

  /**
   * Changes price and/or stock; the updated product, or null when there is none with this id. Once written,
   * invalidates the cached searches that may list or count it (its category's and the all-categories ones).
   */
  async update(id: number, dto: UpdateProductDto): Promise<Product | null> {
    const r = await this.db.query<Product>(
      `UPDATE products SET price_cents = COALESCE($2, price_cents), stock = COALESCE($3, stock), updated_at = now()
       WHERE id = $1 RETURNING ${PRODUCT_COLUMNS}`,
      [id, dto.priceCents ?? null, dto.stock ?? null],
    );
    const product = r.rows[0];
    if (!product) return null;
    await this.cache.invalidateTags(productTags(product.category));
    return product;
  }

  /** Seeds products 1..`rows` unless product `rows` exists already (idempotent; one INSERT ... generate_series). */
  async seed(rows: number): Promise<void> {
    if (rows <= 0) return;
    const present = await this.db.query('SELECT 1 FROM products WHERE id = $1', [rows]);
    if (present.rows.length > 0) return;
    const started = Date.now();
    const r = await this.db.query(SEED_PRODUCTS_SQL, [rows]);
    this.logger.log(`Seeded ${r.rowCount} products (1..${rows}) in ${Date.now() - started} ms`);
  }
}
