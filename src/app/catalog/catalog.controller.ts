import {
  BadRequestException,
  Body,
  Controller,
  Get,
  NotFoundException,
  Param,
  Patch,
  Query,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';
import { RateLimit } from '../../index';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { SEARCH_RATE_LIMIT } from '../security/security.module';
import { CatalogService } from './catalog.service';
import { MAX_PRICE_CENTS, SearchProductsDto } from './dto/search-products.dto';
import { UpdateProductDto } from './dto/update-product.dto';
import type { Product, ProductSearch, ProductSearchResult } from './product.entity';

/** A validated query with every default filled in (equal searches get equal cache keys); 400 when min > max. */
export function normaliseSearch(dto: SearchProductsDto): ProductSearch {
  const q: ProductSearch = {
    category: dto.category ?? null,
    minPriceCents: dto.minPriceCents ?? 0,
    maxPriceCents: dto.maxPriceCents ?? MAX_PRICE_CENTS,
    inStock: dto.inStock ?? false,
    sort: dto.sort ?? 'rating',
    limit: dto.limit ?? 10,
  };
  if (q.minPriceCents > q.maxPriceCents) {
    throw new BadRequestException('minPriceCents must not be greater than maxPriceCents');
  }
  return q;
}

/** `GET /catalog/search` (cached, tagged by category) and `PATCH /catalog/products/:id` (invalidates those tags). */
@Controller('catalog')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  /**
   * Faceted product search through the cache (`X-Cache: HIT|MISS`): 200; 400 on a bad query; 429 + `Retry-After` over
   * the `search` rate limit (SEARCH_RATE_LIMIT_PER_MINUTE per IP, with the IETF `RateLimit` headers).
   */
  @Get('search')
  @RateLimit({ policy: SEARCH_RATE_LIMIT, key: 'ip' })
  async search(
    @Query() query: SearchProductsDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProductSearchResult> {
    const { value, status } = await this.catalog.searchCached(normaliseSearch(query));
    res.setHeader('X-Cache', status === 'miss' ? 'MISS' : 'HIT');
    return value;
  }

  /** Changes price and/or stock: 200 product; 400 on bad or no fields; 404. Invalidates the searches it is in. */
  @Patch('products/:id')
  async update(@Param('id', ParseIdPipe) id: number, @Body() dto: UpdateProductDto): Promise<Product> {
    if (dto.priceCents === undefined && dto.stock === undefined) {
      throw new BadRequestException('give at least one of priceCents, stock');
    }
    const product = await this.catalog.update(id, dto);
    if (!product) throw new NotFoundException(`product ${id} not found`);
    return product;
  }
}
