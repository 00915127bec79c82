"""Special supervision topics (专项督导) and emergency supervision (突发事件督导)."""
