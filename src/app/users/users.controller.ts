import { Body, Controller, Get, HttpCode, NotFoundException, Param, ParseIntPipe, Post } from '@nestjs/common';
import { CreateUserDto } from './dto/create-user.dto';
import type { PublicUser } from './user.entity';
import { UsersService } from './users.service';

/** `POST /users`, `GET /users/:id`. */
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** Registers a user: 201, 400 on bad fields, 409 on a taken username. */
  @Post()
  @HttpCode(201)
  create(@Body() dto: CreateUserDto): Promise<PublicUser> {
    return this.users.create(dto);
  }

  /** One user: 200, 404, 400 on a non-integer id. */
  @Get(':id')
  async findOne(@Param('id', new ParseIntPipe({ errorHttpStatusCode: 400 })) id: number): Promise<PublicUser> {
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundException(`user ${id} not found`);
    return user;
  }
}
