// An account (Kazoo's tenant): created by the CLI or first seen in events' Custom-Channel-Vars.
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('accounts')
export class AccountEntity {
  @PrimaryColumn('text') id!: string;
  @Column('text', { nullable: true }) name!: string | null;
  @Column('text', { nullable: true }) realm!: string | null;
  @Column({ type: 'text', name: 'realm_key', nullable: true, insert: false, update: false })
  realmKey!: string | null;
  @Column('text', { name: 'parent_id', nullable: true }) parentId!: string | null;
  @Column('boolean', { name: 'is_superadmin', default: false }) isSuperadmin!: boolean;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
