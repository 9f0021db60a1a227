import type { Migration } from '../common/migrate';

export const migrations: Migration[] = [(config) => ({ useCaseType: 'str', eventType: 'custom', deviceId: '', streamId: '', cooldown: 1, createUseCase: false, ...config })];
