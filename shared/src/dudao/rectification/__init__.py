"""Findings and rectifications (问题 · 整改): a kit capability each supervising service runs in its schema.

school-inspection uses it now; governance and monitoring reuse it. A finding belongs to a supervised
unit and to the supervision, visit or evaluation that found it; its rectification requirement carries
a deadline that escalates through accountability until the unit's report is accepted (销号).
"""
