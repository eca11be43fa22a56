-- The monitor schema stays: other monitor tables may live in it.
DROP TABLE monitor.notifier_state;
DROP TABLE monitor.notifications;
