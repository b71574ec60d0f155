"""What each audited action is called in the log: one human label per action key.

Keys are ``<area>.<verb>`` as recorded by ``audit.services.record`` (accounts, plugins,
rules, routes), by ``audit.tracking`` (meetings, events), by the catalogue's history
(``<item type>.<action>``) and by a booking's history (``booking.<action>``).
``tests/audit/test_audit_labels.py`` finds every key the code records and fails when one
has no label here.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

# Areas of the log (the filter's 类别), in the order the filter lists them.
AREAS: dict[str, Any] = {
    "account": _l("账号"),
    "plugin": _l("插件"),
    "setting": _l("环线规则"),
    "route": _l("环线线路"),
    "catalog": _l("目录"),
    "booking": _l("预约"),
    "meeting": _l("联席会议"),
    "event": _l("联动活动"),
    "roster": _l("学员名单"),
    "open_run": _l("开放班次"),
    "elective": _l("选学"),
    "evaluation": _l("教学评估"),
    "certificate": _l("结业证书"),
    "feedback": _l("书面反馈"),
    "attendance": _l("考勤"),
    "plan": _l("培训计划"),
    "directory": _l("教学点目录管理"),
    "sharing": _l("师资共享"),
    "guides": _l("讲解员队伍"),
}

ACTION_LABELS: dict[str, Any] = {
    # accounts
    "account.create": _l("新建账号"),
    "account.change_password": _l("修改自己的密码"),
    "account.reset_password": _l("重置密码"),
    "account.enable": _l("启用账号"),
    "account.disable": _l("停用账号"),
    "account.create_token": _l("创建 API 密钥"),
    "account.revoke_token": _l("吊销 API 密钥"),
    "account.activate": _l("学员激活账号"),
    "account.send_links": _l("发送学员激活链接"),
    # plugins and rules
    "plugin.enable": _l("启用成员单位插件"),
    "plugin.disable": _l("停用成员单位插件"),
    "setting.change": _l("修改环线规则"),
    # trainees: rosters, open runs, electives
    "roster.add": _l("添加学员"),
    "roster.import": _l("导入学员名单"),
    "roster.update": _l("修改学员信息"),
    "roster.remove": _l("移出学员名单"),
    "roster.profile": _l("修改学员档案"),
    "roster.notice": _l("发布班级通知"),
    "roster.share_reset": _l("重置日程共享链接"),
    "open_run.publish": _l("发布开放班次"),
    "open_run.confirmed": _l("开放班次成班"),
    "open_run.cancelled": _l("开放班次未成班取消"),
    "elective.create": _l("设置选学"),
    "evaluation.criteria": _l("设置评估指标"),
    "certificate.issue": _l("发放结业证书"),
    "certificate.withhold": _l("暂缓发放结业证书"),
    "certificate.release": _l("恢复结业证书"),
    "certificate.revoke": _l("撤销结业证书"),
    "feedback.send": _l("发送培训情况书面反馈"),
    # season planner
    "planner.season": _l("开启调训季"),
    "planner.season_status": _l("结束或重新开放调训季征集"),
    "planner.request": _l("提交或修改调训请求"),
    "planner.withdraw": _l("撤回调训请求"),
    "planner.pin": _l("固定或排除调训安排"),
    "planner.run": _l("运行统筹调训规划"),
    "planner.accept": _l("接受调训方案"),
    # the year's plan (统计报表 → 培训计划)
    "plan.add": _l("添加年度计划项目"),
    "plan.delete": _l("删除年度计划项目"),
    # plan review (审核培训计划) and needs surveys (培训需求征集)
    "plan.submit": _l("提交培训计划"),
    "plan.approve": _l("审核通过培训计划"),
    "plan.return": _l("退回培训计划"),
    "plan.exempt": _l("登记免于环线的理由"),
    "plan.survey_open": _l("发起培训需求征集"),
    "plan.survey_close": _l("结束培训需求征集"),
    "plan.survey_answer": _l("填报培训需求"),
    # the site directory: entering, review of changes, assessment, warnings, supervision
    "directory.propose": _l("提交教学点入录申请"),
    "directory.admit": _l("教学点审核通过入录"),
    "directory.return": _l("退回教学点入录申请"),
    "directory.change_request": _l("申请变更教学点容量或开放时间"),
    "directory.change_approve": _l("同意教学点变更"),
    "directory.change_reject": _l("不同意教学点变更"),
    "directory.assess": _l("按指标考核教学点"),
    "directory.warn": _l("发出整改通知"),
    "directory.fixed": _l("确认整改完成"),
    "directory.suspend": _l("暂停教学点"),
    "directory.reinstate": _l("恢复启用教学点"),
    "directory.trust": _l("信任成员单位的插件同步（新教学点直接入录）"),
    "directory.distrust": _l("取消信任成员单位的插件同步"),
    "directory.exit": _l("教学点退出目录"),
    "directory.finding": _l("记录督查发现的问题"),
    # teacher sharing
    # the guide corps: the roster and each guide's dated record
    "guides.create": _l("讲解员加入名册"),
    "guides.active": _l("讲解员重新加入名册"),
    "guides.inactive": _l("讲解员移出名册"),
    "guides.training": _l("记录讲解员培训"),
    "guides.certificate": _l("记录讲解员证书"),
    "guides.promotion": _l("讲解员晋级"),
    "guides.reward": _l("记录讲解员奖励"),
    "guides.penalty": _l("记录讲解员惩戒"),
    "sharing.request": _l("申请借用师资"),
    "sharing.confirm": _l("同意借用师资"),
    "sharing.decline": _l("婉拒借用师资"),
    # route templates
    "route.create": _l("新建环线线路"),
    "route.edit": _l("修改环线线路"),
    "route.draft": _l("线路改回草稿"),
    "route.published": _l("发布环线线路"),
    "route.retired": _l("停用环线线路"),
    # catalogue: teaching sites
    "site.create": _l("新建教学点"),
    "site.edit": _l("修改教学点"),
    "site.suspend": _l("暂停教学点"),
    "site.retire": _l("教学点退出"),
    "site.activate": _l("启用教学点"),
    "site.sync": _l("插件同步教学点"),
    "site.import": _l("批量导入教学点"),
    "site.assess": _l("教学点年度考核"),
    "site.photo": _l("教学点照片"),
    # catalogue: teachers
    "teacher.create": _l("新建师资"),
    "teacher.edit": _l("修改师资"),
    "teacher.suspend": _l("暂停师资"),
    "teacher.retire": _l("师资退出"),
    "teacher.activate": _l("启用师资"),
    "teacher.sync": _l("插件同步师资"),
    "teacher.import": _l("批量导入师资"),
    "teacher.availability": _l("师资不可用日期"),
    # catalogue: courses
    "course.create": _l("新建课程"),
    "course.edit": _l("修改课程"),
    "course.suspend": _l("暂停课程"),
    "course.retire": _l("课程退出"),
    "course.activate": _l("启用课程"),
    "course.sync": _l("插件同步课程"),
    "course.import": _l("批量导入课程"),
    "course.excellent": _l("精品课程评定"),
    "course.material": _l("课程教材与案例"),
    # bookings (a booking's own history)
    "booking.create": _l("提交预约"),
    "booking.pending": _l("预约站点（待确认）"),
    "booking.confirmed": _l("预约站点（自动确认）"),
    "booking.waitlisted": _l("加入候补"),
    "booking.offered": _l("候补递补"),
    "booking.confirm": _l("确认站点预约"),
    "booking.decline": _l("婉拒站点预约"),
    "booking.cancel": _l("取消预约"),
    "booking.move": _l("改期"),
    "booking.status": _l("预约状态变更"),
    "booking.offer": _l("候补递补"),
    "booking.accept_offer": _l("接受候补名额"),
    "booking.offer_expired": _l("候补名额过期"),
    "booking.guide": _l("安排讲解员"),
    "booking.replace": _l("替换被婉拒的站点"),
    # joint meetings
    "meeting.create": _l("召集会议"),
    "meeting.edit": _l("修改会议"),
    "meeting.schedule": _l("确定会议时间"),
    "meeting.held": _l("会议已召开"),
    "meeting.cancel": _l("取消会议"),
    "meeting.minutes": _l("填写会议纪要"),
    "meeting.reply": _l("回复会议通知"),
    "meeting.decision": _l("布置议定事项"),
    "meeting.decision_done": _l("办结议定事项"),
    # joint events
    "event.create": _l("新建联动活动"),
    "event.edit": _l("修改联动活动"),
    "event.publish": _l("发布联动活动"),
    "event.cancel": _l("取消联动活动"),
    "event.results": _l("公布评比结果"),
    "event.judge": _l("聘请评委"),
    "event.judge_removed": _l("撤销评委"),
    "event.entry": _l("报送参赛"),
    "event.award": _l("评定获奖等次"),
    "event.register": _l("报名参加活动"),
    "event.register_cancel": _l("取消活动报名"),
    # attendance: supervisors, sign-in, marks, leave, withdrawal
    "attendance.supervisor_add": _l("指定班主任"),
    "attendance.supervisor_remove": _l("撤销班主任"),
    "attendance.sign_in": _l("学员签到"),
    "attendance.mark": _l("登记考勤"),
    "attendance.leave_ask": _l("申请请假"),
    "attendance.leave_approve": _l("批准请假"),
    "attendance.leave_refuse": _l("不批准请假"),
    "attendance.withdrawal_flag": _l("达到退学条件"),
    "attendance.withdrawal_confirm": _l("确认退学"),
    "attendance.withdrawal_dismiss": _l("不予退学"),
}


def action_label(key: str) -> str:
    """The label of ``key`` in the current language; an unknown key is shown as it is."""
    label = ACTION_LABELS.get(key)
    return str(label) if label is not None else key


def area_of(key: str) -> str:
    """The area of an action key: its first part, catalogue item types being ``catalog``."""
    head = key.split(".", 1)[0]
    return "catalog" if head in ("site", "teacher", "course") else head
