import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Post,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';
import { CacheService } from '../../index';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { CreateUserDto } from './dto/create-user.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import type { PublicUser } from './user.entity';
import { UsersService } from './users.service';

/** Cache key of one user (its TTL is `CACHE_TTL_MS`; a missing user is cached as "not found"). */
export const userCacheKey = (id: number): string => `user:${id}`;

/** `POST /users`, `GET /users/:id` (cached), `PATCH /users/:id`, `DELETE /users/:id` (both evict). */
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly cache: CacheService,
  ) {}

  /** Registers a user: 201, 400 on bad fields, 409 on a taken username. */
  @Post()
  @HttpCode(201)
  async create(@Body() dto: CreateUserDto): Promise<PublicUser> {
    const user = await this.users.create(dto);
    // A GET of this id before it existed may have cached "not found".
    await this.cache.delete(userCacheKey(user.id));
    return user;
  }

  /** One user through the cache (`X-Cache: HIT|MISS`): 200, 404 (cached too), 400 on a bad id. */
  @Get(':id')
  async findOne(@Param('id', ParseIdPipe) id: number, @Res({ passthrough: true }) res: Response): Promise<PublicUser> {
    const { value: user, status } = await this.cache.getOrSetEntry(userCacheKey(id), () => this.users.findById(id));
    res.setHeader('X-Cache', status === 'miss' ? 'MISS' : 'HIT');
    if (!user) throw new NotFoundException(`user ${id} not found`);
    return user;
  }

  /** Changes displayName and/or email: 200, 400 on bad or no fields, 404. Evicts the cached user. */
  @Patch(':id')
  async update(@Param('id', ParseIdPipe) id: number, @Body() dto: UpdateUserDto): Promise<PublicUser> {
    if (dto.displayName === undefined && dto.email === undefined) {
      throw new BadRequestException('give at least one of displayName, email');
    }
    const user = await this.users.update(id, dto);
    if (!user) throw new NotFoundException(`user ${id} not found`);
    return user;
  }

  /** Deletes a user: 204, 404, 409 when other records still refer to it. Evicts the cached user. */
  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id', ParseIdPipe) id: number): Promise<void> {
    let removed: boolean;
    try {
      removed = await this.users.remove(id);
    } catch (err) {
      if ((err as { code?: string }).code === '23503') {
        throw new ConflictException(`user ${id} is still referenced by other records`);
      }
      throw err;
    }
    if (!removed) throw new NotFoundException(`user ${id} not found`);
  }
}
