"""Siang and other systems: outside references of a case, the agency API's intake of phone and letter
complaints, outbound webhooks, and the one hook every change of a case goes through (``hooks.case_event``).
"""
