"""The holiday calendar (工作日): working days per the State Council's yearly notice, and deadlines."""
