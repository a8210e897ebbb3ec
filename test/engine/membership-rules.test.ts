// Dynamic membership rules (src/engine/membership-rules.ts), table-driven: every operator, precedence, nulls,
// multi-valued properties, the errors an admin gets for a wrong rule (where, and what was expected), and the
// per-expression explanation a what-if shows. Expected results are written out by hand from Microsoft Learn's
// description of the language, not computed.
import { describe, expect, it } from 'vitest';
import {
  explainRule,
  MAX_RULE_LENGTH,
  type MembershipRule,
  matchesRule,
  parseMembershipRule,
  type RuleFacts,
} from '../../src/engine/index.js';

const adele: RuleFacts = {
  objectId: '5b1c0b4e-1d3f-4c5e-9a0b-2f6c7d8e9f01',
  accountEnabled: true,
  department: 'Sales',
  country: 'Germany',
  usageLocation: 'DE',
  city: null,
  jobTitle: '',
  displayName: 'Adele Vance',
  userPrincipalName: 'AdeleV@contoso.com',
  extensionAttribute3: '42',
  proxyAddresses: ['SMTP:adele@contoso.com', 'smtp:adele.vance@fabrikam.com'],
  otherMails: [],
  assignedPlans: [
    {
      servicePlanId: 'efb87545-963c-4e0d-99df-69c6916d9eb0',
      capabilityStatus: 'Enabled',
      service: 'exchange',
    },
    {
      servicePlanId: '57ff2da0-773e-42df-b2af-ffb7a2317929',
      capabilityStatus: 'Suspended',
      service: 'TeamspaceAPI',
    },
  ],
};

const laptop: RuleFacts = {
  objectId: '0c2f6a51-3a1b-4b8e-8d1c-6f4e2a9b7c10',
  accountEnabled: true,
  deviceOSType: 'Windows',
  deviceOSVersion: '10.0.22631',
  deviceOwnership: 'Company',
  isRooted: false,
  devicePhysicalIds: ['[ZTDId]z-1', '[OrderId]contoso-2024'],
};

function parsed(text: string): MembershipRule {
  const result = parseMembershipRule(text);
  if (!result.ok) throw new Error(`${text}: ${result.error.message} at ${result.error.position}`);
  return result.rule;
}

const matches = (text: string, facts: RuleFacts = adele) => matchesRule(parsed(text), facts);

describe('membership rules: operators', () => {
  const cases: [rule: string, member: boolean][] = [
    ['user.department -eq "Sales"', true],
    ['user.department -eq "sales"', true], // strings compare case-insensitively
    ['user.department -eq "Marketing"', false],
    ['user.department -ne "Marketing"', true],
    ['user.department eq "Sales"', true], // the hyphen is optional
    ['USER.DEPARTMENT -EQ "Sales"', true],
    ['user.displayName -startsWith "adele"', true],
    ['user.displayName -notStartsWith "adele"', false],
    ['user.displayName -startsWith "vance"', false], // inside, not at the start
    ['user.displayName -notStartsWith "vance"', true],
    ['user.displayName -endsWith "adele"', false],
    ['user.displayName -endsWith "VANCE"', true],
    ['user.displayName -notEndsWith "Vance"', false],
    ['user.userPrincipalName -contains "@contoso."', true], // a substring test
    ['user.userPrincipalName -notContains "fabrikam"', true],
    ['user.displayName -match "^ad.*ce$"', true],
    ['user.displayName -match "^vance"', false],
    ['user.displayName -notMatch "^vance"', true],
    ['user.usageLocation -in ["FR","de"]', true],
    ['user.usageLocation -in ["FR","GB"]', false],
    ['user.usageLocation -notIn ["FR","GB"]', true],
    ['user.usageLocation -in []', false],
    ['user.accountEnabled -eq true', true],
    ['user.accountEnabled -eq false', false],
    ['user.accountEnabled -eq "True"', true],
    ['user.extensionAttribute3 -eq 42', true], // an unquoted number is the text it spells
    ["user.displayName -eq 'Adele Vance'", true],
    ['user.objectId -ne null', true], // every user
  ];
  it.each(cases)('%s → %s', (rule, member) => {
    expect(matches(rule)).toBe(member);
  });
});

describe('membership rules: properties without a value', () => {
  const cases: [rule: string, member: boolean][] = [
    ['user.city -eq null', true],
    ['user.city -ne null', false],
    ['user.jobTitle -eq null', true], // an empty string is no value
    ['user.companyName -eq null', true], // never set at all
    ['user.city -eq "Berlin"', false],
    ['user.city -ne "Berlin"', true],
    ['user.city -startsWith "B"', false],
    ['user.city -notStartsWith "B"', true],
    ['user.city -in ["Berlin"]', false],
    ['user.city -notIn ["Berlin"]', true],
    ['user.city -match "."', false],
    ['user.city -notMatch "."', true],
  ];
  it.each(cases)('%s → %s', (rule, member) => {
    expect(matches(rule)).toBe(member);
  });
});

describe('membership rules: -and, -or, -not and parentheses', () => {
  const cases: [rule: string, member: boolean][] = [
    ['user.department -eq "Sales" -and user.usageLocation -eq "DE"', true],
    ['user.department -eq "Sales" -and user.usageLocation -eq "FR"', false],
    ['user.department -eq "HR" -or user.usageLocation -eq "DE"', true],
    // -and binds tighter than -or: true or (false and false)
    ['user.usageLocation -eq "DE" -or user.department -eq "HR" -and user.city -eq "Paris"', true],
    // (false and false) or true, not false and (false or true)
    ['user.department -eq "HR" -and user.city -eq "Paris" -or user.usageLocation -eq "DE"', true],
    // … and parentheses change that: (true or false) and false
    ['(user.usageLocation -eq "DE" -or user.department -eq "HR") -and user.city -eq "Paris"', false],
    ['-not (user.department -eq "HR")', true],
    ['-not user.department -eq "Sales"', false], // -not binds looser than the comparison
    ['not (user.department -eq "Sales") or user.country -eq "Germany"', true],
    ['-not -not (user.department -eq "Sales")', true],
    ['-not (user.department -eq "Sales") -and user.country -eq "Germany"', false], // -not before -and
    ['user.department -eq "Sales" and user.accountEnabled -eq true', true],
    ['((user.department -eq "Sales"))', true],
  ];
  it.each(cases)('%s → %s', (rule, member) => {
    expect(matches(rule)).toBe(member);
  });
});

describe('membership rules: multi-valued properties', () => {
  const cases: [rule: string, member: boolean][] = [
    ['user.proxyAddresses -any (_ -startsWith "smtp:adele.vance")', true],
    ['user.proxyAddresses -any (_ -contains "northwind")', false],
    ['user.proxyAddresses -all (_ -startsWith "smtp:")', true],
    ['user.proxyAddresses -all (_ -endsWith "@contoso.com")', false],
    ['user.proxyAddresses -any (_ -endsWith "@contoso.com" -or _ -endsWith "@northwind.com")', true],
    ['user.otherMails -any (_ -ne null)', false],
    ['user.otherMails -all (_ -eq "x")', true], // every one of none
    [
      'user.assignedPlans -any (assignedPlan.servicePlanId -eq "efb87545-963c-4e0d-99df-69c6916d9eb0" -and assignedPlan.capabilityStatus -eq "Enabled")',
      true,
    ],
    [
      'user.assignedPlans -any (assignedPlan.servicePlanId -eq "57ff2da0-773e-42df-b2af-ffb7a2317929" -and assignedPlan.capabilityStatus -eq "Enabled")',
      false,
    ],
    ['user.assignedPlans -any (assignedPlan.service -eq "Exchange")', true],
    ['user.department -eq "Sales" -and user.proxyAddresses -any (_ -contains "fabrikam")', true],
  ];
  it.each(cases)('%s → %s', (rule, member) => {
    expect(matches(rule)).toBe(member);
  });
});

describe('membership rules: devices', () => {
  const cases: [rule: string, member: boolean][] = [
    ['device.deviceOSType -eq "Windows"', true],
    ['device.deviceOSType -eq "Windows" -and device.deviceOSVersion -startsWith "10.0"', true],
    ['device.deviceOwnership -eq "Personal"', false],
    ['device.isRooted -eq false', true],
    ['device.devicePhysicalIds -any (_ -startsWith "[ZTDId]")', true],
    ['device.objectId -ne null', true],
    ['device.enrollmentProfileName -eq null', true],
  ];
  it.each(cases)('%s → %s', (rule, member) => {
    expect(matchesRule(parsed(rule), laptop)).toBe(member);
  });

  it('knows which objects a rule is about', () => {
    expect(parsed('device.deviceOSType -eq "Windows"').subject).toBe('device');
    expect(parsed('user.objectId -ne null').subject).toBe('user');
  });
});

describe('membership rules: errors say where, and what was expected', () => {
  const cases: [rule: string, position: number, message: RegExp][] = [
    ['', 0, /expected a property/],
    ['user.department', 15, /expected an operator.*found the end of the rule/],
    ['user.department -equals "Sales"', 16, /expected an operator.*found '-equals'/],
    ['user.department -eq', 19, /expected a quoted value.*found the end/],
    ['user.department -eq "Sales', 20, /string is not closed/],
    [
      'user.department -eq "Sales" user.city -eq "x"',
      28,
      /expected -and, -or or the end of the rule, found 'user.city'/,
    ],
    ['(user.department -eq "Sales"', 28, /expected '\)'/],
    ['user.department -eq "Sales" -and', 32, /expected a property/],
    ['user.favoriteColor -eq "red"', 0, /user has no property 'favoriteColor'/],
    ['group.displayName -eq "x"', 0, /expected a property of user or device/],
    ['user.department -eq "Sales" -and device.deviceOSType -eq "Windows"', 33, /users or devices, not both/],
    ['user.proxyAddresses -eq "smtp:a@b.c"', 20, /holds several values: compare them with -any or -all/],
    ['user.department -any (_ -eq "x")', 0, /-any applies to a multi-valued property/],
    ['user.proxyAddresses -any (user.city -eq "x")', 26, /inside -any or -all, compare _/],
    ['_ -eq "x"', 0, /_ stands for one value/],
    ['user.usageLocation -in "DE"', 23, /expected a list such as \["DE","FR"\]/],
    ['user.usageLocation -in ["DE" "FR"]', 29, /expected ',' or '\]'/],
    ['user.city -startsWith null', 22, /null is compared with -eq or -ne only/],
    ['-not (user.city -eq null)', 0, /-not cannot negate a comparison with null/],
    ['user.displayName -match "(unclosed"', 24, /not a valid regular expression/],
    ['user.memberOf -any (group.objectId -in ["x"])', 0, /memberOf rules .* not supported/],
    ['user.employeeHireDate -ge system.now -plus p1d', 0, /employeeHireDate is not stored/],
    ['Direct Reports for "62e19b97-8b3d-4d4a-a106-4ce66896a863"', 0, /Direct Reports for.* not supported/],
    ['user.extension_b25b1aa4c9a8465f9f2b0e6c0d3f4c1a_costCenter -eq "1"', 0, /extension_.* not stored/],
    ['user.department -eq "Sales" ; drop', 28, /unexpected character ';'/],
    ['user.department -eq "Sales")', 27, /expected -and, -or or the end of the rule, found '\)'/],
    ['user.displayName -le "M"', 17, /-le compares dates of employeeHireDate only/],
    ['user.displayName -match true', 17, /-match takes a quoted pattern/],
    ['assignedPlan.servicePlanId -eq "x"', 0, /assignedPlan.… is read inside user.assignedPlans -any/],
    [
      'user.assignedPlans -any (assignedPlan.planName -eq "x")',
      25,
      /assignedPlan has servicePlanId, capabilityStatus and service, not 'planName'/,
    ],
    ['user.proxyAddresses -any _ -eq "x"', 25, /expected '\(' after -any/],
    ['user.proxyAddresses -any (_ -eq "x"', 35, /expected '\)'/],
    ['user.usageLocation -in [,]', 24, /expected a quoted value/],
  ];
  it.each(cases)('%s → at %d', (rule, position, message) => {
    const result = parseMembershipRule(rule);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toMatch(message);
    expect(result.error.position).toBe(position);
  });

  it(`refuses a rule longer than ${MAX_RULE_LENGTH} characters, and takes one that long`, () => {
    const clause = ' -or user.department -eq "Sales"';
    let rule = 'user.department -eq "HR"';
    while (rule.length + clause.length <= MAX_RULE_LENGTH) rule += clause;
    rule = rule.padEnd(MAX_RULE_LENGTH, ' ');
    expect(parseMembershipRule(rule).ok).toBe(true);
    const result = parseMembershipRule(`${rule} `);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/at most 3072 characters/);
  });

  it('reads escaped quotes inside strings', () => {
    expect(matchesRule(parsed('user.jobTitle -eq "The `"Boss`""'), { jobTitle: 'The "Boss"' })).toBe(true);
    expect(matchesRule(parsed("user.jobTitle -eq 'O''Brien'"), { jobTitle: "O'Brien" })).toBe(true);
  });
});

describe('membership rules: the explanation of a result', () => {
  it("gives each expression its text, result and the property it read, as Graph beta's expressionEvaluationDetails", () => {
    const rule = parsed(
      'user.department -eq "Sales" -and (user.usageLocation -in ["FR"] -or -not user.city -eq "Paris")',
    );
    const leaf = (
      expression: string,
      result: boolean,
      propertyName: string,
      propertyValue: string | null,
    ) => ({
      expression,
      expressionResult: result,
      expressionEvaluationDetails: [],
      propertyToEvaluate: { propertyName, propertyValue },
    });
    expect(explainRule(rule, adele)).toEqual({
      expression: rule.text,
      expressionResult: true,
      propertyToEvaluate: null,
      expressionEvaluationDetails: [
        leaf('user.department -eq "Sales"', true, 'user.department', 'Sales'),
        {
          expression: '(user.usageLocation -in ["FR"] -or -not user.city -eq "Paris")',
          expressionResult: true,
          propertyToEvaluate: null,
          expressionEvaluationDetails: [
            leaf('user.usageLocation -in ["FR"]', false, 'user.usageLocation', 'DE'),
            {
              expression: '-not user.city -eq "Paris"',
              expressionResult: true,
              propertyToEvaluate: null,
              expressionEvaluationDetails: [leaf('user.city -eq "Paris"', false, 'user.city', null)],
            },
          ],
        },
      ],
    });
  });

  it('shows the values a -any read', () => {
    const detail = explainRule(parsed('user.proxyAddresses -any (_ -contains "fabrikam")'), adele);
    expect(detail).toMatchObject({
      expressionResult: true,
      propertyToEvaluate: {
        propertyName: 'user.proxyAddresses',
        propertyValue: 'SMTP:adele@contoso.com,smtp:adele.vance@fabrikam.com',
      },
    });
  });
});
