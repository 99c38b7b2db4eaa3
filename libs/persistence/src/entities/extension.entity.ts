// An extension: a stable integer id for one SIP user (realm + username), assigned on first sight.
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('extensions')
export class ExtensionEntity {
  @PrimaryGeneratedColumn() id!: number;
  @Column('text', { name: 'realm_key' }) realmKey!: string;
  @Column('text', { name: 'username_key' }) usernameKey!: string;
  @Column('text', { name: 'account_id', nullable: true }) accountId!: string | null;
  @Column('text') realm!: string;
  @Column('text') username!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
}
