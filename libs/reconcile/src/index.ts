export * from './reconcile-registrations.service';
