import { CATEGORIES } from './product.entity';

const ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Eco', 'Pro', 'Smart', 'Ultra', 'Vintage'];
const BRANDS = 40;

/** A SQL array literal of fixed, known-safe words (letters only: checked, never user input). */
function sqlArray(words: readonly string[]): string {
  if (!words.every((w) => /^[A-Za-z]+$/.test(w))) throw new Error('catalog seed: words must be letters only');
  return `ARRAY[${words.map((w) => `'${w}'`).join(',')}]`;
}

/**
 * Inserts products 1..$1 in one statement (`generate_series`), skipping ids already there, so that running it again
 * (or from two instances at once) changes nothing. Values are deterministic functions of the id: categories in turn,
 * every brand in every category (a few big ones, many small), prices 0.99–499.99, ratings 0.0–5.0, about a fifth out of stock.
 */
export const SEED_PRODUCTS_SQL = `
INSERT INTO products (id, sku, name, category, brand, price_cents, rating_tenths, stock)
SELECT g,
  'SKU-' || lpad(g::text, 7, '0'),
  (${sqlArray(ADJECTIVES)})[1 + (g::bigint * 3) % ${ADJECTIVES.length}] || ' ' || initcap((${sqlArray(CATEGORIES)})[1 + g % ${CATEGORIES.length}]) || ' ' || g,
  (${sqlArray(CATEGORIES)})[1 + g % ${CATEGORIES.length}],
  'Brand ' || lpad((1 + (((g / ${CATEGORIES.length})::bigint * 7) % ${BRANDS}) ^ 2 / ${BRANDS})::int::text, 2, '0'),
  (99 + (g::bigint * 7919) % 49901)::int,
  ((g::bigint * 37) % 51)::smallint,
  greatest(0, (g::bigint * 13) % 150 - 30)::int
FROM generate_series(1, $1::int) AS g
ON CONFLICT (id) DO NOTHING`;
