"""The coach's loop across sessions: who each runner is (names), when each video was filmed
(sessions), and each named athlete's faults session by session (progress)."""
