// Live bindings (and tombstones of recently ended ones) and their history. The hot paths move
// these rows with generated multi-row SQL (binding-columns.ts); the entities describe the
// tables for TypeORM and for readers.
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

abstract class BindingColumns {
  @Column('text', { name: 'realm_key' }) realmKey!: string;
  @Column('text', { name: 'username_key' }) usernameKey!: string;
  @Column('text', { name: 'contact_uri' }) contactUri!: string;
  @Column('text', { name: 'account_id', nullable: true }) accountId!: string | null;
  @Column('text') origin!: string;
  @Column('text') realm!: string;
  @Column('text') username!: string;
  @Column('text', { name: 'original_contact' }) originalContact!: string;
  @Column('text', { name: 'call_id', nullable: true }) callId!: string | null;
  @Column('text', { name: 'user_agent', nullable: true }) userAgent!: string | null;
  @Column('int') expires!: number;
  @Column('timestamptz', { name: 'first_registered_at' }) firstRegisteredAt!: Date;
  @Column('timestamptz', { name: 'last_registered_at' }) lastRegisteredAt!: Date;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt!: Date;
  @Column('int', { name: 'refresh_count' }) refreshCount!: number;
  @Column('timestamptz', { name: 'ended_at', nullable: true }) endedAt!: Date | null;
  @Column('text', { name: 'end_reason', nullable: true }) endReason!: string | null;
  @Column('text', { nullable: true }) mac!: string | null;
}

@Entity('registrations')
export class RegistrationEntity extends BindingColumns {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
}

@Entity('registration_history')
export class RegistrationHistoryEntity extends BindingColumns {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('bigint', { name: 'registration_id' }) registrationId!: string;
}
